broker_url = "amqps://orders:@@gen:b62:16@@@mq.acme.internal/orders"
