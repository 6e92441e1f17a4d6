"""claimscrub api package."""
