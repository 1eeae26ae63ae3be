package cmdb

import (
	"github.com/itsmkit/itsmkit/itsm"
)

// ImpactedServices answers what an incident needs to know of the CMDB: the
// business services whose CIs a failure of cis reaches, downstream, with
// the default relationship types, as references to those service CIs in the
// order the analysis reached them. References that are not CIs of this
// graph are ignored (an incident may name CIs the CMDB does not hold); with
// none left the answer is empty. It suits incident.Config.Impact:
//
//	cfg.Impact = func(ctx context.Context, t itsm.TenantID, cis []itsm.Ref) ([]itsm.Ref, error) {
//		return graphs[t].ImpactedServices(cis)
//	}
//
// Errors: those of Impact.
func (g *Graph) ImpactedServices(cis []itsm.Ref) ([]itsm.Ref, error) {
	var origins []ID
	seen := make(map[ID]bool, len(cis))
	for _, r := range cis {
		id := IDFromUUID(r.ID)
		if r.Kind != id.Kind() || seen[id] {
			continue
		}
		if _, ok := g.Node(id); !ok {
			continue
		}
		seen[id] = true
		origins = append(origins, id)
	}
	if len(origins) == 0 {
		return nil, nil
	}
	res, err := g.Impact(Query{Origins: origins})
	if err != nil {
		return nil, err
	}
	out := make([]itsm.Ref, 0, len(res.Services))
	for _, i := range res.Services {
		out = append(out, res.ID(i).Ref())
	}
	return out, nil
}
