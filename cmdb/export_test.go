package cmdb

// SetMergeThreshold lets tests force the append buffer to merge early.
func (g *Graph) SetMergeThreshold(n int) { g.minMerge = n }
