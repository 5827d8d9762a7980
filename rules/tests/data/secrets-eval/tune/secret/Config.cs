public class Config {
    public const string ClientSecret = "@@gen:b64:40@@";
}
