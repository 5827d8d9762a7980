$uri = "https://acme.webhook.office.com/webhookb2/@@gen:uuid@@@@@gen:uuid@@/IncomingWebhook/@@gen:hex:32@@/@@gen:uuid@@"
Invoke-RestMethod -Method Post -Uri $uri -Body '{"text":"deployed"}'
