import os
API_TOKEN = os.environ.get("API_TOKEN")
password = getpass.getpass("Password: ")
