curl -H "Authorization: Bearer ${API_TOKEN}" https://api.example.com/v2/jobs
curl -u admin:admin http://localhost:8080/
