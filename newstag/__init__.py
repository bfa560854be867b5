"""newstag: topic tagging for Chinese regional legal and public-safety news."""
