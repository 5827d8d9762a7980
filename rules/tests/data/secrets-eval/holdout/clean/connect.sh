psql "postgresql://$PGUSER:$PGPASSWORD@$PGHOST:5432/orders"
mongosh "mongodb+srv://<username>:<password>@cluster0.example.mongodb.net/"
