"""HTTP plumbing shared by every capability's views: problem details, request limits, conditional requests."""
