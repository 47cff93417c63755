"""Hosted pages for people (approval links, …)."""
