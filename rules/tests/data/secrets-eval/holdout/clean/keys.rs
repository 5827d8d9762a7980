use p256::SecretKey;
let key = SecretKey::random(&mut OsRng);
let password_len = 32;
