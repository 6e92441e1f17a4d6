"""claimscrub engine package."""
