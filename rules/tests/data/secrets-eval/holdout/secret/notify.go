package notify

const webhookURL = "https://hooks.slack.com/services/T@@gen:upper:8@@/B@@gen:upper:10@@/@@gen:b62:24@@"
