import requests
requests.get("https://api.acme.io", auth=("svc", "@@gen:b62:20@@"))
API_TOKEN = "@@gen:hex:40@@"
