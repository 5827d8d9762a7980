# Generate a token with: openssl rand -hex 32
SECRET_KEY_BASE_LENGTH=64
