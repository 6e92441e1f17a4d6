"""claimscrub dsl package."""
