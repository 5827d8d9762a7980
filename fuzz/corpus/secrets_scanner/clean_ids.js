const uuid = "9b2f4c1e-7d3a-4f6b-8e2c-1a5d9f0b3c7e";
const commit = "4b825dc642cb6eb9a060e54bf8d69288fbee4904";
