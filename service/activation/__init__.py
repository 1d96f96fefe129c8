"""Activation: sending a segment's members to Marketo, LinkedIn Matched Audiences and webhooks."""
