"""Writers that turn cloudctl's records into documents a school can publish or share."""
