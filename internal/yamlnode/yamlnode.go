// Package yamlnode names YAML node kinds in error messages, for every
// package that decodes YAML by hand (units, scenarios, compare), so a
// message says "got a list" the same way everywhere.
package yamlnode

import "go.yaml.in/yaml/v3"

// KindName names a node kind as an error message says it, article
// included: "a mapping", "a list", "a scalar", "an alias" or "a
// document"; the zero kind (an absent node) is "nothing".
func KindName(k yaml.Kind) string {
	switch k {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return "a scalar"
	case yaml.AliasNode:
		return "an alias"
	case yaml.DocumentNode:
		return "a document"
	}
	return "nothing"
}
