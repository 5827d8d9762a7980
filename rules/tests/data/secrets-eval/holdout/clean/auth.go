package auth

import "os"

const tokenHeader = "X-Auth-Token"
const passwordField = "password"

func token() string { return os.Getenv("ORDERS_TOKEN") }
