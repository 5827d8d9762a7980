public class Config {
    public const string ClientSecretHeader = "X-Client-Secret";
    public string ClientSecret { get; set; }
}
