"""Log-in, log-out, the password page and the language switch."""
