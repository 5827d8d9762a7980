resource "random_password" "db" {
  length  = 32
  special = true
}
password = random_password.db.result
