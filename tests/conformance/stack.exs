# The Stack GenServer shared by the GenServer pairs (twin of twin_stack.py).
defmodule Stack do
  use GenServer
  def init(arg), do: {:ok, arg}
  def handle_call(:pop, _from, [h | t]), do: {:reply, h, t}
  def handle_call(:state, _from, s), do: {:reply, s, s}
  def handle_call({:sleep, ms}, _from, s), do: (Process.sleep(ms); {:reply, :late, s})
  def handle_call(:crash, _from, _s), do: raise("call crash")
  def handle_call(:stop_reply, _from, s), do: {:stop, :normal, :bye, s}
  def handle_call(:bad, _from, _s), do: :oops
  def handle_cast({:push, x}, s), do: {:noreply, [x | s]}
  def handle_info(msg, s), do: (T.out("info", msg); {:noreply, s})
  def terminate(reason, _s), do: T.out("terminate", reason)
end
