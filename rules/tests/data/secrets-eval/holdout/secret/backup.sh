mysqldump --user=backup --password=@@gen:b62:14@@ --host=db.internal shop > shop.sql
