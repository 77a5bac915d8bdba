// The argument enums every tool shares, built from the domain's label order
// (which is the order of the plan's tool definitions).
import { z } from 'zod';
import { LAT_ACTIONS, LONG_ACTIONS, SCENES } from '../../domain/enums';

export const sceneArg = () => z.enum(SCENES);
export const longActionArg = () => z.enum(LONG_ACTIONS);
export const latActionArg = () => z.enum(LAT_ACTIONS);
