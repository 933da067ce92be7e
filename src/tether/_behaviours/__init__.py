"""OTP behaviours, built only on tether's public runtime API (one module each)."""
