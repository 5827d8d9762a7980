var dsn = fmt.Sprintf("postgres://%s:%s@%s/reports", user, pass, host)
