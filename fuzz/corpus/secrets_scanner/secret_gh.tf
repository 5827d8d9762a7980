resource "github_actions_secret" "deploy" {
  secret_name     = "DEPLOY_KEY"
  plaintext_value = "@@gen:github:ghs_@@"
}
