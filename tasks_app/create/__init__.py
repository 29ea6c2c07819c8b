"""The Create page: start imagine, blend, describe and shorten jobs, and reuse prompts."""
