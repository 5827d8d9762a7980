ActionMailer::Base.smtp_settings = { user_name: "apikey", password: "SG.@@gen:b64u:22@@.@@gen:b64u:43@@" }
