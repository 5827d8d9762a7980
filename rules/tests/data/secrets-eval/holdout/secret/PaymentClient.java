package io.acme.orders;

public final class PaymentClient {
    private static final String API_KEY = "@@gen:hex:32@@";
    private final java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
}
