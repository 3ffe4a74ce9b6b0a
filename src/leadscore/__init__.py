"""leadscore: open, explainable B2B lead and account scoring."""
