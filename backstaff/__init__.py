"""backstaff: Terraform-style plan/apply for Kamal 2 deployments."""

__version__ = "0.1.0"
