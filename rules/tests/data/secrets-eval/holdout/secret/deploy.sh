#!/bin/sh
set -e
curl -fsS -u deployer:@@gen:b62:18@@ https://artifacts.acme.io/upload -T build.tgz
