package ring

// noCopy makes go vet's copylocks check flag copies of the structs that embed
// it: a copied ring or doorbell would split one queue's state in two.
type noCopy struct{}

func (*noCopy) Lock()   {}
func (*noCopy) Unlock() {}
