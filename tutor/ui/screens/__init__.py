"""Screens: home, lesson (the coordinator), help, confirmations."""
