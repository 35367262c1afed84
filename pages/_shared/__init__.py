"""The only place that imports both streamlit and analytics: connection, cached loaders, shared filters."""
