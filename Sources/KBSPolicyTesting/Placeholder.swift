enum KBSPolicyTestingPlaceholder {}
