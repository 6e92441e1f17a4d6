"""claimscrub store package."""
