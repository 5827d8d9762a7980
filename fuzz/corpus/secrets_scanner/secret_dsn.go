package main

var dsn = "postgres://reporting:@@gen:b62:18@@@reports.internal:5432/reports?sslmode=require"
