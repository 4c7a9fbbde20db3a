"""FANUC Series 0i-TF lathe (G-code system A): interpreter, exact axisymmetric stock, measurement."""
