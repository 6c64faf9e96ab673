"""Text analytics that runs offline: language, sentiment, keyphrases."""
