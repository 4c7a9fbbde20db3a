"""FANUC Series 0i-MF machining centre."""
