const { MongoClient } = require("mongodb");
const client = new MongoClient("mongodb+srv://svc:@@gen:b62:16@@@cluster0.ab1cd.mongodb.net/prod");
