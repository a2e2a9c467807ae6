"""The messaging sandbox: what a connector developer needs to run the platform's whole loop on a laptop."""
