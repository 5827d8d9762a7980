curl -X POST https://api.acme.io/v2/jobs \
  -H "Authorization: Bearer @@gen:b64u:40@@" \
  -d @job.json
