"""LiteLLM-compatible import paths (``litellm.llms.*``): re-exports only."""
