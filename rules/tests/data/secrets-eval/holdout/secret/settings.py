import os

DEBUG = False
ALLOWED_HOSTS = ["orders.acme.io"]
SECRET_KEY = '@@gen:b64:50@@'
