"""legion_fleet: what several robots of one cell share: a reservation of areas and bins (`fleet_coordinator`)."""
