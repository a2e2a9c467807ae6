"""OAuth tokens: AppJWTs by client credentials, ConsumerJWSs, signing keys and JWKS."""
