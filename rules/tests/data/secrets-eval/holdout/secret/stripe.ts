import Stripe from "stripe";
export const stripe = new Stripe("sk_live_@@gen:b62:24@@", { apiVersion: "2024-04-10" });
