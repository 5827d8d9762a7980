region      = "eu-west-1"
db_username = "orders"
db_password = "@@gen:b62:20@@"
